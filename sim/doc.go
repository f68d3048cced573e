// Package sim holds simulations and closed-form results of consensus theory
// that the measurements are compared with: the double-spend race of an
// attacker with a share q of the hash power against z confirmations
// (Nakamoto 2008; Rosenfeld 2014; Grunspan and Pérez-Marco 2017), and the
// eclipse attack on the real address book (Heilman et al. 2015): the share
// of a victim's outbound peers an attacker with so many addresses and
// network groups obtains.
//
// sim imports stats (exact intervals and tests) and p2p/addrman (the
// address book, which imports nothing of chaind), and no other chaind
// package.
package sim
