package hrana

// Value is one SQL value on the wire: V is nil, int64, float64, string or
// []byte. Integers travel as decimal strings and blobs as base64 without
// padding (padded accepted), as the clients expect.
//
// SKELETON: value.go is the hrana-exec helper's; MarshalJSON and
// UnmarshalJSON come with it.
type Value struct {
	V any
}
