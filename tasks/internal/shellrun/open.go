package shellrun

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/interp"
)

// open opens the files of redirections. A named pipe blocks open(2) until
// its other end is opened, and reads and writes until the other side
// moves: where sh's process would be killed, runner's goroutine would
// hang, so a named pipe is opened where cancellation can end the wait,
// and its reads and writes end when the script does.
func (r *run) open(ctx context.Context, path string, flag int, perm os.FileMode) (io.ReadWriteCloser, error) {
	if path != "" && !filepath.IsAbs(path) {
		path = filepath.Join(interp.HandlerCtx(ctx).Dir, path)
	}
	if info, err := os.Stat(path); err != nil || info.Mode()&os.ModeNamedPipe == 0 {
		return os.OpenFile(path, flag, perm)
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.OpenFile(path, flag, perm)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		if o.err == nil {
			context.AfterFunc(ctx, func() { o.f.SetDeadline(time.Now()) })
		}
		return o.f, o.err
	case <-ctx.Done():
		// Open the other end, which ends the wait, and close both.
		other := os.O_WRONLY
		if flag&(os.O_WRONLY|os.O_RDWR) != 0 {
			other = os.O_RDONLY
		}
		if f, err := os.OpenFile(path, other|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		go func() {
			if o := <-done; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}
