// Package figure draws chaind's figures (the testnet report, the PoW/PoS
// comparison, the simulations) with gonum/plot: round ticks, real log axes
// labelled at powers of ten, a legend beside the plot area (never over the
// data), for each series its own colour, dash pattern and marker so that
// lines on top of each other stay distinguishable, and optional intervals
// drawn as error bars.
//
// figure imports no other chaind package.
package figure
