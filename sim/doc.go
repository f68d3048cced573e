// Package sim holds simulations and closed-form results of consensus theory
// that the measurements are compared with: the double-spend race of an
// attacker with a share q of the hash power against z confirmations
// (Nakamoto 2008; Rosenfeld 2014; Grunspan and Pérez-Marco 2017).
//
// sim imports stats (exact intervals and tests) and no other chaind package.
package sim
