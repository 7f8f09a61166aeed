package cms

import "strconv"

// SQLite's JSON functions, json_valid in the CHECK constraints included,
// refuse a document nested deeper than JSON_MAX_DEPTH, which is 1000 in
// the SQLite that modernc.org/sqlite compiles. Condo refuses such data as
// the caller's mistake (400) before it reaches SQLite, where it would fail
// as an internal error.
const sqliteMaxDepth = 1000

// MaxDataDepth is how deeply an item's data may nest, the data object
// itself being level 1: its version snapshot stores it one level down
// ({"data": ...}), and that snapshot must stay within SQLite's limit.
const MaxDataDepth = sqliteMaxDepth - 1

// MaxSchemaDepth bounds the nesting of a collection's schema document
// (annotations and json defaults are kept verbatim), well within what
// SQLite stores.
const MaxSchemaDepth = 200

// DepthError describes JSON text nested too deeply: Path names the member
// that holds the deepest part, by its keys from the top ("data.payload"),
// at most the first few.
type DepthError struct {
	Path  string
	Limit int
}

// TooDeep scans JSON text for nesting deeper than limit (the outermost
// object or array is level 1) and describes the first place it happens,
// or returns nil. It reads the text once and keeps one small entry per
// open level, so its time and memory are linear in the text's length
// whatever the nesting; it does not check that the text is valid JSON
// (the decoder does that).
func TooDeep(text []byte, limit int) *DepthError {
	// Per open level: whether it is an object, and the last member name
	// seen in it. Names are kept for the first few levels only, enough to
	// name a field; deeper ones cost no memory beyond their entry.
	const namedLevels = 4
	type level struct {
		object bool
		name   string
	}
	var stack []level
	expectName := false // the next string in an object is a member name
	for i := 0; i < len(text); i++ {
		switch b := text[i]; b {
		case '{', '[':
			stack = append(stack, level{object: b == '{'})
			expectName = b == '{'
			if len(stack) > limit {
				path := ""
				for _, l := range stack[:min(len(stack), namedLevels)] {
					if l.name == "" {
						break
					}
					if path != "" {
						path += "."
					}
					path += l.name
				}
				return &DepthError{Path: path, Limit: limit}
			}
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectName = false
		case ',':
			expectName = len(stack) > 0 && stack[len(stack)-1].object
		case '"':
			j := i + 1
			for j < len(text) && text[j] != '"' {
				if text[j] == '\\' {
					j++
				}
				j++
			}
			if expectName && len(stack) > 0 && len(stack) <= namedLevels {
				if name, err := strconv.Unquote(string(text[i:min(j+1, len(text))])); err == nil {
					stack[len(stack)-1].name = clipName(name)
				}
			}
			expectName = false
			i = j
		}
	}
	return nil
}
