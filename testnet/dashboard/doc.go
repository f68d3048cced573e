// Package dashboard serves the live view of a testnet: every node's head,
// peers, mempool and finalized checkpoint, the block tree with side
// branches, producers and the finality line, the link matrix with controls,
// and the run's events, updated over Server-Sent Events. The page, its
// script and style are embedded; nothing is fetched from elsewhere.
//
// It knows nothing of how a testnet runs: the supervisor gives it a
// function that returns a State and an http.Handler for the control
// JSON-RPC API, which the page's buttons call. It imports only clock.
package dashboard
