package rpc

import (
	"context"
	"errors"

	"github.com/chaind/chaind/linkmodel"
)

// LinkFaults shapes what the node sends to each peer (p2p/linkfault); the
// link_ namespace sets it, so that a testnet's faults live in the nodes'
// own transport wherever they run.
type LinkFaults interface {
	// Set shapes the link to peer (an IP address); a zero Params
	// unshapes it, Cut closes it.
	Set(peer string, p linkmodel.Params) error
	// Links is every shaped link, by peer.
	Links() map[string]linkmodel.Params
}

var errNoLinkFaults = errors.New("this node shapes no links (start it with --p2p.linkfaults)")

func (a *api) linkMethods() map[string]any {
	return map[string]any{
		"link_set":  a.linkSet,
		"link_list": a.linkList,
	}
}

func (a *api) linkSet(_ context.Context, peer string, p linkmodel.Params) (bool, error) {
	if a.Links == nil {
		return false, errNoLinkFaults
	}
	if err := a.Links.Set(peer, p); err != nil {
		return false, invalidParams("%v", err)
	}
	return true, nil
}

func (a *api) linkList(context.Context) (map[string]linkmodel.Params, error) {
	if a.Links == nil {
		return nil, errNoLinkFaults
	}
	return a.Links.Links(), nil
}
