package testnet

// The rows of a drawn block tree, shared by the dashboard and the report's
// block-tree plots.

import (
	"sort"

	"github.com/ethereum/go-ethereum/common"
)

// treeBlock is what the layout needs of a block.
type treeBlock struct {
	Hash, Parent common.Hash
	Height       uint64
	Canonical    bool
}

// branchRows gives each block a row: the canonical chain row 0, and each
// side branch one row of its own over all its heights, the first row free
// from one height before it starts to one after it ends, so that a branch
// never shares a row with another one it overlaps (two halves of a
// partition, and a stale block inside either). A branch follows a block's
// canonical child, else its child with the highest descendant; its other
// children start branches of their own.
func branchRows(blocks []treeBlock) map[common.Hash]int {
	byHash := make(map[common.Hash]*treeBlock, len(blocks))
	for i := range blocks {
		byHash[blocks[i].Hash] = &blocks[i]
	}
	order := make([]*treeBlock, 0, len(blocks))
	for i := range blocks {
		order = append(order, &blocks[i])
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].Height != order[j].Height {
			return order[i].Height > order[j].Height
		}
		return order[i].Hash.Cmp(order[j].Hash) < 0
	})
	deepest := make(map[common.Hash]uint64, len(blocks))
	children := map[common.Hash][]*treeBlock{}
	var roots []*treeBlock
	for _, b := range order { // from the top: children before their parents
		deepest[b.Hash] = max(deepest[b.Hash], b.Height)
		if _, ok := byHash[b.Parent]; ok && b.Parent != b.Hash {
			deepest[b.Parent] = max(deepest[b.Parent], deepest[b.Hash])
			children[b.Parent] = append(children[b.Parent], b)
		} else {
			roots = append(roots, b)
		}
	}
	first := func(bs []*treeBlock) {
		sort.SliceStable(bs, func(i, j int) bool {
			a, b := bs[i], bs[j]
			if a.Canonical != b.Canonical {
				return a.Canonical
			}
			if deepest[a.Hash] != deepest[b.Hash] {
				return deepest[a.Hash] > deepest[b.Hash]
			}
			if a.Height != b.Height {
				return a.Height < b.Height
			}
			return a.Hash.Cmp(b.Hash) < 0
		})
	}
	for _, kids := range children {
		first(kids)
	}
	first(roots)
	rows := make(map[common.Hash]int, len(blocks))
	var taken [][][2]uint64 // row -> the height spans of its branches
	free := func(r int, lo, hi uint64) bool {
		for _, s := range taken[r] {
			if s[0] <= hi && lo <= s[1] {
				return false
			}
		}
		return true
	}
	var place func(start *treeBlock)
	place = func(start *treeBlock) {
		path := []*treeBlock{start}
		for b := start; len(children[b.Hash]) > 0; {
			b = children[b.Hash][0]
			path = append(path, b)
		}
		lo, hi := start.Height, path[len(path)-1].Height
		row := 0
		if !start.Canonical {
			row = 1
			for ; row < len(taken) && !free(row, lo-min(lo, 1), hi+1); row++ {
			}
		}
		for len(taken) <= row {
			taken = append(taken, nil)
		}
		taken[row] = append(taken[row], [2]uint64{lo, hi})
		for _, b := range path {
			rows[b.Hash] = row
		}
		for _, b := range path {
			if kids := children[b.Hash]; len(kids) > 1 {
				for _, side := range kids[1:] {
					place(side)
				}
			}
		}
	}
	for _, r := range roots {
		place(r)
	}
	return rows
}
