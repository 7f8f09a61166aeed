package condo

import (
	"os"
	"syscall"
	"time"
)

// CrashAt kills this process with SIGKILL when the environment variable
// env names step: the crash tests of operations that move or delete data
// stop a real child process at each of their steps, with nothing flushed
// or deferred, as kill -9 would. Only tests set env.
func CrashAt(env, step string) {
	if os.Getenv(env) == step {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Hour) // the signal is on its way
	}
}
