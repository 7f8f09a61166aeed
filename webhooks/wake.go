package webhooks

import "sync"

// The process's workers, told by Wake which outboxes have new events. A
// writer does not know the server it runs in (the scheduler, a request,
// a plugin): the list is process-wide, and a process without a worker
// (a CLI command) simply tells nobody; the server's worker finds such
// events when it starts.
var wakers struct {
	mu   sync.RWMutex // guards list
	list []*Worker
}

// Wake tells the process's workers that a write committed in key's
// database (a tenant id, or PlatformKey), which may have added events. It
// is a map lookup for a tenant the workers know has no endpoints, so
// writers call it after every write transaction. It never blocks; call
// it after the commit, so the worker reads what was written.
func Wake(key string) { each(func(w *Worker) { w.wake(key, false) }) }

// Enable is Wake for a tenant that has just gained an endpoint (or a
// replay): the workers look at its outbox after each of its writes from
// now on.
func Enable(key string) { each(func(w *Worker) { w.wake(key, true) }) }

// Emitted tells the process's workers that a transaction of key's wrote
// events (Emit reported true), so they look at its outbox after its
// writes even when the catalog did not list it (a tenant imported with
// its endpoints). It does not wake them: the writer's Wake, after the
// commit, does.
func Emitted(key string) {
	each(func(w *Worker) {
		w.mu.Lock()
		w.known[key] = true
		w.mu.Unlock()
	})
}

func each(fn func(*Worker)) {
	wakers.mu.RLock()
	defer wakers.mu.RUnlock()
	for _, w := range wakers.list {
		fn(w)
	}
}

func register(w *Worker) {
	wakers.mu.Lock()
	defer wakers.mu.Unlock()
	wakers.list = append(wakers.list, w)
}

func unregister(w *Worker) {
	wakers.mu.Lock()
	defer wakers.mu.Unlock()
	for i, x := range wakers.list {
		if x == w {
			wakers.list = append(wakers.list[:i], wakers.list[i+1:]...)
			return
		}
	}
}
