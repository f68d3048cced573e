// Package fault holds the actions of a scenario's timeline — partition,
// heal, kill, restart, set-link, send and stop — as typed values in one
// registry that the testnet's supervisor and the simulator (netsim) share.
// A scenario file spells a step as JSON (Step, with "do" naming the
// action); Step.Fault turns it into its Fault and refuses an unknown name
// with the list of the known ones. A Fault checks itself against the size
// of the network, applies itself to anything that has the capability it
// needs (Partitioner, Crasher, LinkShaper, TxSender, Stopper), and spells
// itself for the records, so that a testnet and a simulation record the
// same text.
//
// fault imports chain (for its JSON durations) and linkmodel.
package fault
