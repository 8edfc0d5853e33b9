package epub

import "bytes"

// jfifSegment is a minimal JFIF APP0 marker segment: version 1.01, aspect
// ratio 1:1, no thumbnail.
var jfifSegment = []byte{0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}

// withJFIF returns a JPEG with a JFIF header. JPEGs written by Go's
// image/jpeg (and by tools that strip metadata) start with no APP0 or APP1
// segment, and some e-readers then cannot size the cover; one is inserted
// after the start-of-image marker. Other JPEGs are returned as they are.
func withJFIF(data []byte) []byte {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return data
	}
	if data[2] == 0xFF && (data[3] == 0xE0 || data[3] == 0xE1) { // JFIF or Exif already
		return data
	}
	var b bytes.Buffer
	b.Grow(len(data) + len(jfifSegment))
	b.Write(data[:2])
	b.Write(jfifSegment)
	b.Write(data[2:])
	return b.Bytes()
}
