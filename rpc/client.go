package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// Client is a small JSON-RPC 2.0 client over HTTP.
type Client struct {
	url  string
	http *http.Client
	id   atomic.Uint64
}

// NewClient returns a client for the server at url.
func NewClient(url string) *Client {
	return &Client{url: url, http: &http.Client{Timeout: 30 * time.Second}}
}

// URL is the server's address.
func (c *Client) URL() string { return c.url }

// Call invokes method with params and decodes the result into result (which
// may be nil to discard it). A JSON-RPC error comes back as *Error.
func (c *Client) Call(ctx context.Context, result any, method string, params ...any) error {
	batch := []BatchElem{{Method: method, Params: params, Result: result}}
	if err := c.send(ctx, batch, false); err != nil {
		return err
	}
	return batch[0].Error
}

// BatchElem is one call of a batch.
type BatchElem struct {
	Method string
	Params []any
	Result any   // decoded into when the call succeeds
	Error  error // the call's own error, set by BatchCall
}

// BatchCall sends the calls as one JSON-RPC batch. The returned error is for
// the request as a whole; each call's error is in its Error field.
func (c *Client) BatchCall(ctx context.Context, batch []BatchElem) error {
	return c.send(ctx, batch, true)
}

type clientResponse struct {
	ID     uint64          `json:"id"`
	Result json.RawMessage `json:"result"`
	Error  *Error          `json:"error"`
}

func (c *Client) send(ctx context.Context, batch []BatchElem, asBatch bool) error {
	reqs := make([]map[string]any, len(batch))
	ids := make(map[uint64]int, len(batch))
	for i, e := range batch {
		id := c.id.Add(1)
		ids[id] = i
		params := e.Params
		if params == nil {
			params = []any{}
		}
		reqs[i] = map[string]any{"jsonrpc": "2.0", "id": id, "method": e.Method, "params": params}
	}
	var body any = reqs
	if !asBatch {
		body = reqs[0]
	}
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("rpc %s: %w", batch[0].Method, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("rpc %s: read response: %w", batch[0].Method, err)
	}
	var resps []clientResponse
	if asBatch {
		err = json.Unmarshal(raw, &resps)
	} else {
		var one clientResponse
		err = json.Unmarshal(raw, &one)
		resps = []clientResponse{one}
	}
	if err != nil {
		return fmt.Errorf("rpc %s: HTTP %d, undecodable response %.200q: %w", batch[0].Method, resp.StatusCode, raw, err)
	}
	for _, r := range resps {
		i, ok := ids[r.ID]
		if !ok {
			if r.Error != nil {
				return r.Error
			}
			return fmt.Errorf("rpc: response with unknown id %d", r.ID)
		}
		delete(ids, r.ID)
		e := &batch[i]
		if r.Error != nil {
			e.Error = r.Error
			continue
		}
		if e.Result != nil {
			if err := json.Unmarshal(r.Result, e.Result); err != nil {
				e.Error = fmt.Errorf("rpc %s: decode result: %w", e.Method, err)
			}
		}
	}
	for _, i := range ids {
		batch[i].Error = fmt.Errorf("rpc %s: no response", batch[i].Method)
	}
	return nil
}
