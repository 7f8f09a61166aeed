package fleet

import (
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/condohq/condo"
	"github.com/condohq/condo/catalog"
)

// self is this process as the owner of the runs it starts.
var self = catalog.RunOwner{PID: os.Getpid(), Host: hostname(), Token: condo.NewID()}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
}

// alive reports whether a running run's owner is still working on it. A
// run owned by a process on this host is dead as soon as that process is
// gone (kill -9 included); elsewhere, or when the pid is in use again,
// silence longer than StaleAfter is the sign.
func alive(r catalog.MigrationRun) bool {
	fresh := time.Since(r.HeartbeatAt) < StaleAfter
	switch {
	case r.Owner.Host != self.Host:
		return fresh
	case r.Owner.PID == self.PID:
		return r.Owner.Token == self.Token && fresh // else an earlier process had our pid
	default:
		return fresh && processExists(r.Owner.PID)
	}
}

// processExists reports whether a process with this pid exists on this
// host (signal 0 checks without sending anything).
func processExists(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
