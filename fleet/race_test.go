//go:build race

package fleet_test

// The race detector slows SQLite (compiled Go) down tenfold; a smaller
// fleet finds the same races.
const fleetSize = 100
