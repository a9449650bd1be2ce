package table

import (
	"io"

	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/snappy"
)

// arrow-go compresses Snappy pages with klauspost/compress/snappy, whose
// Encode is the slower "better" s2 mode; on the labels table that took a
// third of the write. s2.EncodeSnappy writes the same Snappy block format
// (any Snappy reader reads it) at the speed of the reference encoder. The
// codec registry is process-wide: every Snappy page this program writes
// goes through it.
func init() { compress.RegisterCodec(compress.Codecs.Snappy, fastSnappy{}) }

type fastSnappy struct{}

func (fastSnappy) Encode(dst, src []byte) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) EncodeLevel(dst, src []byte, _ int) []byte { return s2.EncodeSnappy(dst, src) }

func (fastSnappy) Decode(dst, src []byte) []byte {
	out, err := snappy.Decode(dst, src)
	if err != nil {
		panic(err)
	}
	return out
}

func (fastSnappy) DecodeWithError(dst, src []byte) ([]byte, error) {
	return snappy.Decode(dst, src)
}

func (fastSnappy) NewReader(r io.Reader) io.ReadCloser { return io.NopCloser(snappy.NewReader(r)) }

func (fastSnappy) NewWriter(w io.Writer) io.WriteCloser { return snappy.NewBufferedWriter(w) }

func (fastSnappy) NewWriterLevel(w io.Writer, _ int) (io.WriteCloser, error) {
	return snappy.NewBufferedWriter(w), nil
}

func (fastSnappy) CompressBound(n int64) int64 { return int64(snappy.MaxEncodedLen(int(n))) }
