package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// State files carry their own SHA-256, so that damage that still reads as
// JSON — one flipped byte in a recipe's path, a status, an output — is
// found, not trusted. The checksum is the first field of the object,
// "checksum"; it is the SHA-256 of the run's id and the file's bytes with
// the checksum's own digits as zeros — so a line copied from another run's
// journal does not pass either. Files without one (written before it
// existed) are read as they are.

// unsealed is the checksum field's value while the checksum is computed.
const unsealed = "0000000000000000000000000000000000000000000000000000000000000000"

// seal replaces the zeros of the checksum field in data by the checksum
// of data for run.
func seal(data []byte, run string) []byte {
	i := checksumAt(data)
	if i < 0 {
		return data
	}
	sum := checksum(data, run)
	hex.Encode(data[i:i+len(unsealed)], sum)
	return data
}

func checksum(data []byte, run string) []byte {
	h := sha256.New()
	h.Write([]byte(run))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

// verify checks the checksum field of data (of run), when it has one.
func verify(data []byte, run string) error {
	i := checksumAt(data)
	if i < 0 {
		return nil
	}
	want := string(data[i : i+len(unsealed)])
	copied := bytes.Clone(data)
	copy(copied[i:], unsealed)
	if got := hex.EncodeToString(checksum(copied, run)); got != want {
		return fmt.Errorf("its checksum does not match its content (damaged)")
	}
	return nil
}

// checksumAt is the offset of the checksum's digits in data, or -1. The
// field is the object's first: JSON escapes any quote inside a value, so
// a key "checksum" found first is that field.
func checksumAt(data []byte) int {
	for _, key := range [][]byte{[]byte(`"checksum": "`), []byte(`"checksum":"`)} {
		if i := bytes.Index(data, key); i >= 0 && i < 16 && i+len(key)+len(unsealed) <= len(data) {
			return i + len(key)
		}
	}
	return -1
}
