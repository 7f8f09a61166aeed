//go:build !race

package fleet_test

// fleetSize is the number of tenants TestRunner_UpDown migrates.
const fleetSize = 300
