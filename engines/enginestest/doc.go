// Package enginestest helps tests show that genesis files built through
// engines are the ones chaind built before engine sections: it reads a
// genesis file of the old flat layout into today's.
//
// It imports chain and engines only, and only tests import it.
package enginestest
