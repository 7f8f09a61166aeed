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

// Wake tells the process's workers that key's outbox (a tenant id, or
// PlatformKey) has new events. It never blocks; call it after the commit.
func Wake(key string) {
	wakers.mu.RLock()
	defer wakers.mu.RUnlock()
	for _, w := range wakers.list {
		w.wake(key)
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
