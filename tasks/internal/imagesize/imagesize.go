// Package imagesize bounds the memory an image takes decoded, before it is
// decoded: a small file can hold many pixels, and a 16-bit one takes 8
// bytes a pixel (a 322 KB PNG of 6300×6300 took md2pdf to 676 MB).
package imagesize

import (
	"fmt"
	"image"
	"image/color"
)

// MaxDecodedBytes is the most memory an image may take decoded.
const MaxDecodedBytes = 128 << 20

// BytesPerPixel is what Go's image decoders keep for a pixel of colour
// model m; 8, the most any keeps, for a model it does not know.
func BytesPerPixel(m color.Model) int64 {
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	switch m {
	case color.GrayModel, color.AlphaModel:
		return 1
	case color.Gray16Model, color.Alpha16Model:
		return 2
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel, color.YCbCrModel:
		return 4
	}
	return 8
}

// Check refuses an image that would take more than MaxDecodedBytes.
func Check(cfg image.Config) error {
	bpp := BytesPerPixel(cfg.ColorModel)
	if n := int64(cfg.Width) * int64(cfg.Height) * bpp; n > MaxDecodedBytes {
		return fmt.Errorf("%d×%d pixels of %d bytes each, %d MiB decoded, more than the %d MiB allowed; scale it down or save it with 8 bits a channel (a full A5 page at 300 dpi is 1748×2480)",
			cfg.Width, cfg.Height, bpp, n>>20, MaxDecodedBytes>>20)
	}
	return nil
}
