package hrana

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// check refuses, before anything runs, what the protocol forbids.
func TestRegistry_Check(t *testing.T) {
	r := New(nil, Config{MaxSQLBytes: 100})
	long := strings.Repeat("x", 101)
	for _, c := range []struct {
		name     string
		version  int
		requests string
		code     string // "" accepted
	}{
		{"ExecuteClose", 2, `[{"type":"execute","stmt":{"sql":"SELECT 1"}},{"type":"close"}]`, ""},
		{"Empty", 2, `[]`, ""},
		{"UnknownType", 2, `[{"type":"explode"}]`, CodeProtocol},
		{"GetAutocommitOnV2", 2, `[{"type":"get_autocommit"}]`, CodeProtocol},
		{"GetAutocommitOnV3", 3, `[{"type":"get_autocommit"}]`, ""},
		{"AfterClose", 2, `[{"type":"close"},{"type":"execute","stmt":{"sql":"SELECT 1"}}]`, CodeStreamClosed},
		{"LongSQL", 2, `[{"type":"execute","stmt":{"sql":"` + long + `"}}]`, CodeSQLTooLong},
		{"LongSequence", 2, `[{"type":"sequence","sql":"` + long + `"}]`, CodeSQLTooLong},
		{"LongStoredSQL", 2, `[{"type":"store_sql","sql_id":1,"sql":"` + long + `"}]`, CodeSQLTooLong},
		{"LongBatchStep", 2, `[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"SELECT 1"}},{"stmt":{"sql":"` + long + `"}}]}}]`, CodeSQLTooLong},
		{"BackwardCondition", 2, `[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"BEGIN"}},
			{"condition":{"type":"and","conds":[{"type":"ok","step":0},{"type":"not","cond":{"type":"error","step":0}}]},"stmt":{"sql":"COMMIT"}}]}}]`, ""},
		{"ForwardCondition", 2, `[{"type":"batch","batch":{"steps":[{"condition":{"type":"ok","step":1},"stmt":{"sql":"SELECT 1"}},{"stmt":{"sql":"SELECT 2"}}]}}]`, CodeProtocol},
		{"SelfCondition", 2, `[{"type":"batch","batch":{"steps":[{"condition":{"type":"ok","step":0},"stmt":{"sql":"SELECT 1"}}]}}]`, CodeProtocol},
		{"NestedForward", 2, `[{"type":"batch","batch":{"steps":[{"stmt":{"sql":"SELECT 1"}},{"condition":{"type":"or","conds":[{"type":"not","cond":{"type":"ok","step":5}}]},"stmt":{"sql":"SELECT 2"}}]}}]`, CodeProtocol},
		{"IsAutocommitOnV2", 2, `[{"type":"batch","batch":{"steps":[{"condition":{"type":"is_autocommit"},"stmt":{"sql":"SELECT 1"}}]}}]`, CodeProtocol},
		{"IsAutocommitOnV3", 3, `[{"type":"batch","batch":{"steps":[{"condition":{"type":"is_autocommit"},"stmt":{"sql":"SELECT 1"}}]}}]`, ""},
		{"UnknownCondition", 2, `[{"type":"batch","batch":{"steps":[{"condition":{"type":"maybe"},"stmt":{"sql":"SELECT 1"}}]}}]`, CodeProtocol},
	} {
		t.Run(c.name, func(t *testing.T) {
			var reqs []StreamRequest
			if err := json.Unmarshal([]byte(c.requests), &reqs); err != nil {
				t.Fatal(err)
			}
			err := r.check(c.version, reqs)
			switch {
			case c.code == "" && err != nil:
				t.Errorf("refused: %v", err)
			case c.code != "" && (err == nil || err.Code != c.code || err.Status != 400):
				t.Errorf("got %v, want 400 %s", err, c.code)
			}
		})
	}
}

func TestRegistry_Decode(t *testing.T) {
	r := New(nil, Config{MaxBodyBytes: 64})
	for _, c := range []struct {
		name, body string
		status     int // 0 accepted
	}{
		{"Pipeline", `{"baton":null,"requests":[]}`, 0},
		{"UnknownFields", `{"baton":null,"requests":[],"future":{"x":1}}`, 0},
		{"NoBaton", `{"requests":[{"type":"close"}]}`, 0},
		{"Empty", ``, 400},
		{"NotJSON", `requests`, 400},
		{"WrongType", `{"requests":{}}`, 400},
		{"TooLarge", `{"requests":[` + strings.Repeat(`{"type":"close"},`, 10) + `{}]}`, 413},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p PipelineRequest
			req := httptest.NewRequest("POST", "/v2/pipeline", strings.NewReader(c.body))
			err := r.decode(httptest.NewRecorder(), req, &p)
			if c.status == 0 {
				if err != nil {
					t.Errorf("refused: %v", err)
				}
				return
			}
			if he, ok := err.(*HTTPError); !ok || he.Status != c.status {
				t.Errorf("got %v, want %d", err, c.status)
			}
		})
	}
}

// The error body is what both clients read: JSON with message, under
// Content-Type application/json exactly.
func TestWriteError(t *testing.T) {
	w := httptest.NewRecorder()
	WriteError(w, &HTTPError{Status: 503, Code: "TOO_MANY_STREAMS", Message: "busy", RetryAfter: 1})
	if w.Code != 503 || w.Header().Get("Content-Type") != "application/json" || w.Header().Get("Retry-After") != "1" {
		t.Errorf("status %d, headers %v", w.Code, w.Header())
	}
	var body errorBody
	want := errorBody{errorDetail{"TOO_MANY_STREAMS", "busy"}, "busy", "TOO_MANY_STREAMS"}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body != want {
		t.Errorf("body %s (%v)", w.Body, err)
	}
}
