// Package stats holds the few statistics chaind's measurements report:
// exact (Clopper-Pearson) confidence intervals for a binomial proportion, an exact interval for a Poisson
// rate, the exact binomial test and the chi-square goodness-of-fit test, and
// two-sample tests: Fisher's exact test of two binomial proportions and the
// chi-square test of homogeneity of two distributions of counts.
//
// It imports nothing from chaind; the distributions come from
// gonum.org/v1/gonum/stat/distuv.
package stats
