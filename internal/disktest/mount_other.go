//go:build !linux

package disktest

import "errors"

func mount(string, int64) error { return errors.New("a tmpfs mount needs Linux") }

func unmount(string) {}
