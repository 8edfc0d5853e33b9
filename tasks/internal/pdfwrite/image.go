package pdfwrite

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/gif" // GIF images in episodes
	"image/jpeg"
	_ "image/png" // PNG images in episodes

	"github.com/novelfactory/runner/tasks/internal/imagesize"
)

// MaxPixels is the most pixels a PNG or GIF may have: decoding one costs
// memory by the pixel, whatever the file's size.
const MaxPixels = 40_000_000

// MaxDecodedBytes is the most memory a PNG or GIF may take decoded.
const MaxDecodedBytes = imagesize.MaxDecodedBytes

// Image writes an image XObject and returns its object number. JPEG data
// goes in as it is (DCTDecode); PNG and GIF are decoded and written as
// deflated RGB, with a soft mask when they have transparency.
func (w *Writer) Image(data []byte, mediaType string) (int, error) {
	if mediaType == "image/jpeg" {
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return 0, fmt.Errorf("read JPEG: %w", err)
		}
		space := "/DeviceRGB"
		decode := ""
		switch cfg.ColorModel {
		case color.GrayModel:
			space = "/DeviceGray"
		case color.CMYKModel:
			space, decode = "/DeviceCMYK", " /Decode [1 0 1 0 1 0 1 0]" // Adobe's JPEGs store CMYK inverted
		}
		id := w.Alloc()
		w.Stream(id, fmt.Sprintf(" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace %s /BitsPerComponent 8%s /Filter /DCTDecode", cfg.Width, cfg.Height, space, decode), data, false)
		return id, w.Err()
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("read image: %w", err)
	}
	// Decoded, a PNG takes 7 bytes a pixel here: a small file of many
	// pixels (a PNG of 40,000×40,000 zeros is a few MB) must not take
	// gigabytes.
	if px := int64(cfg.Width) * int64(cfg.Height); px > MaxPixels {
		return 0, fmt.Errorf("image is %d×%d pixels, more than the %d megapixels a PDF page needs; scale it down (a full A5 page at 300 dpi is 1748×2480)", cfg.Width, cfg.Height, MaxPixels/1_000_000)
	}
	// Pixels alone do not bound it: a 16-bit RGBA PNG decodes to 8 bytes
	// a pixel (6300×6300, under the pixel limit, in a 322 KB file, took
	// md2pdf to 676 MB).
	if err := imagesize.Check(cfg); err != nil {
		return 0, fmt.Errorf("image is %w", err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return 0, fmt.Errorf("read image: %w", err)
	}
	b := img.Bounds()
	rgb := make([]byte, 0, b.Dx()*b.Dy()*3)
	alpha := make([]byte, 0, b.Dx()*b.Dy())
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			rgb = append(rgb, c.R, c.G, c.B)
			alpha = append(alpha, c.A)
			opaque = opaque && c.A == 255
		}
	}
	mask := ""
	if !opaque {
		m := w.Alloc()
		w.Stream(m, fmt.Sprintf(" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8", b.Dx(), b.Dy()), alpha, true)
		mask = fmt.Sprintf(" /SMask %d 0 R", m)
	}
	id := w.Alloc()
	w.Stream(id, fmt.Sprintf(" /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB /BitsPerComponent 8%s", b.Dx(), b.Dy(), mask), rgb, true)
	return id, w.Err()
}
