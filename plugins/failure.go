package plugins

import (
	"fmt"
	"time"
)

// Failure is a plugin's fault: a hook or route that panicked, ran past its
// timeout or returned an error that is not a coded one. The server answers
// it 500 plugin_failed with Public as the message; Cause is for the log.
type Failure struct {
	Plugin string
	Hook   string
	// Panicked and Timeout say how it failed; neither: Cause.
	Panicked bool
	Timeout  time.Duration // non-zero: it ran longer than this
	Cause    error
}

// Error is Public, with the cause for logs.
func (f *Failure) Error() string {
	if f.Cause != nil {
		return f.Public() + ": " + f.Cause.Error()
	}
	return f.Public()
}

// Unwrap returns the cause.
func (f *Failure) Unwrap() error { return f.Cause }

// Public says which plugin failed where and how, with nothing of the
// cause's text (it may hold anything the plugin saw).
func (f *Failure) Public() string {
	how := "returned an error"
	switch {
	case f.Panicked:
		how = "panicked"
	case f.Timeout > 0:
		how = fmt.Sprintf("did not finish within %s", f.Timeout)
	}
	return fmt.Sprintf("plugin %s failed in %s (it %s); the details are in the server log", f.Plugin, f.Hook, how)
}
