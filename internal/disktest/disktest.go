// Package disktest gives tests a real full disk: a small tmpfs mounted in
// a test's temporary directory, and a filler file that takes every byte
// left on it. Mounting needs root (or CAP_SYS_ADMIN) on Linux; where it is
// impossible the test is skipped, except under CI=true, where it fails, so
// a CI runner never passes these tests by not running them.
package disktest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// MustMount mounts a tmpfs of size bytes on a new directory in
// tb.TempDir() and returns the directory; it is unmounted when the test
// ends. Register whatever holds files open on it (a server, a store)
// after this call, so that it is closed first.
func MustMount(tb testing.TB, size int64) string {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "disk")
	if err := os.Mkdir(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := mount(dir, size); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("cannot mount a tmpfs for a full-disk test (run as root on Linux): %v", err)
		}
		tb.Skipf("cannot mount a tmpfs for a full-disk test (run as root on Linux): %v", err)
	}
	tb.Cleanup(func() { unmount(dir) })
	return dir
}

// MustFill writes a file in dir until not one more byte fits on its file
// system, and returns the function that removes it, freeing the space.
func MustFill(tb testing.TB, dir string) (free func()) {
	tb.Helper()
	f, err := os.CreateTemp(dir, "filler-")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	// Big writes first, then smaller ones down to a byte, so the last
	// partly used block is full too.
	for chunk := 1 << 20; chunk > 0; chunk /= 4 {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					tb.Fatal(err)
				}
				break
			}
		}
	}
	name := f.Name()
	return func() {
		if err := os.Remove(name); err != nil {
			tb.Fatal(err)
		}
	}
}
