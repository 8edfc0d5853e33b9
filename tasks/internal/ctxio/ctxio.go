// Package ctxio has readers that stop when their context ends.
package ctxio

import (
	"context"
	"io"
)

// Reader reads from R until Ctx ends.
type Reader struct {
	Ctx context.Context
	R   io.Reader
}

// Read reads from R unless Ctx has ended.
func (c *Reader) Read(p []byte) (int, error) {
	if err := c.Ctx.Err(); err != nil {
		return 0, err
	}
	return c.R.Read(p)
}
