// Command genmanifest writes a synthetic single-label Ground Truth output
// manifest for benchmarks: realistic line shapes (about 320 bytes a line),
// deterministic for a given seed.
//
//	go run ./bench/genmanifest -lines 1000000 -out /tmp/big.manifest
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"strconv"
	"time"
)

var classes = []string{"product", "packaging", "full-length", "half-length", "other"}

func main() {
	lines := flag.Int("lines", 1_000_000, "lines to write")
	out := flag.String("out", "", "output file (default stdout)")
	seed := flag.Uint64("seed", 1, "random seed")
	attr := flag.String("attribute", "photo-category", "label attribute name")
	flag.Parse()
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(*seed, *seed^0x5eed))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	buf := make([]byte, 0, 512)
	for i := range *lines {
		class := rng.IntN(len(classes))
		conf := 0.5 + 0.5*rng.Float64()
		human := "yes"
		if rng.IntN(10) == 0 {
			human = "no"
		}
		at := base.Add(time.Duration(rng.Int64N(int64(28 * 24 * time.Hour))))
		buf = buf[:0]
		buf = append(buf, `{"source-ref":"s3://reviewlens-photos/reviews/dt=2026-11-`...)
		buf = fmt.Appendf(buf, "%02d/u%08d/r%09d-%d.jpg", 1+rng.IntN(28), rng.IntN(10_000_000), i, rng.IntN(4))
		buf = append(buf, `","`...)
		buf = append(buf, *attr...)
		buf = append(buf, `":`...)
		buf = strconv.AppendInt(buf, int64(class), 10)
		buf = append(buf, `,"`...)
		buf = append(buf, *attr...)
		buf = append(buf, `-metadata":{"confidence":`...)
		buf = strconv.AppendFloat(buf, float64(int(conf*100))/100, 'f', -1, 64)
		buf = append(buf, `,"job-name":"labeling-job/`...)
		buf = append(buf, *attr...)
		buf = append(buf, `","class-name":"`...)
		buf = append(buf, classes[class]...)
		buf = append(buf, `","human-annotated":"`...)
		buf = append(buf, human...)
		buf = append(buf, `","creation-date":"`...)
		buf = at.AppendFormat(buf, "2006-01-02T15:04:05.000000")
		buf = append(buf, `","type":"groundtruth/image-classification"}}`...)
		buf = append(buf, '\n')
		if _, err := bw.Write(buf); err != nil {
			log.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
}
