package serve

import (
	"context"
	"sync"

	"github.com/novelfactory/runner/internal/serve/api"
)

// watchBuffer is how many changes a watcher may fall behind before it
// misses some: a Change means "look again", so a missed one costs nothing
// that the next one does not bring back.
const watchBuffer = 64

// hub fans changes out to watchers without ever waiting for one.
type hub struct {
	mu   sync.Mutex
	subs map[chan api.Change]struct{}
}

func (h *hub) send(ch api.Change) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		select {
		case sub <- ch:
		default: // a slow reader misses this one
		}
	}
}

// Watch implements api.Backend.
func (c *Core) Watch(ctx context.Context) <-chan api.Change {
	ch := make(chan api.Change, watchBuffer)
	c.hub.mu.Lock()
	c.hub.subs[ch] = struct{}{}
	c.hub.mu.Unlock()
	go func() {
		<-ctx.Done()
		c.hub.mu.Lock()
		delete(c.hub.subs, ch)
		close(ch) // under the lock: send never writes to a closed channel
		c.hub.mu.Unlock()
	}()
	return ch
}
