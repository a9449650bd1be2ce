// Command genanswers writes a synthetic answers table (CSV) for the
// consolidate benchmark: photos answered by 3 or 4 of 20 inspectors
// (accuracies 0.97 down to 0.63, and two spammers who answer at random),
// 1,000,000 answers for 300,000 photos; deterministic for a given seed.
//
//	go run ./bench/genanswers -photos 300000 -out /tmp/answers.csv
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
	photos := flag.Int("photos", 300_000, "photos to answer")
	out := flag.String("out", "", "output file (default stdout)")
	seed := flag.Uint64("seed", 1, "random seed")
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
	type inspector struct {
		id      string
		acc     float64
		spammer bool
	}
	var ins []inspector
	for i := range 18 {
		ins = append(ins, inspector{id: fmt.Sprintf("private.us-east-1.%016x", uint64(i)*0x9e3779b97f4a7c15), acc: 0.97 - 0.02*float64(i)})
	}
	ins = append(ins, inspector{id: "spammer-1", spammer: true}, inspector{id: "spammer-2", spammer: true})

	bw := bufio.NewWriterSize(w, 1<<20)
	rng := rand.New(rand.NewPCG(*seed, *seed^0x5eed))
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	order := make([]int, len(ins))
	for i := range order {
		order[i] = i
	}
	k := len(classes)
	buf := []byte("image_uri,inspector_id,label,answered_at\n")
	for p := range *photos {
		truth := rng.IntN(k)
		n := 3
		if p%3 == 0 {
			n = 4
		}
		rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
		for _, j := range order[:n] {
			label := truth
			switch {
			case ins[j].spammer:
				label = rng.IntN(k)
			case rng.Float64() >= ins[j].acc:
				label = (truth + 1 + rng.IntN(k-1)) % k
			}
			buf = append(buf, "s3://reviewlens-photos/reviews/2026-11-"...)
			buf = append(buf, byte('0'+(1+p%28)/10), byte('0'+(1+p%28)%10))
			buf = append(buf, "/review-"...)
			buf = strconv.AppendInt(buf, int64(1_000_000+p), 10)
			buf = append(buf, "-photo-1.jpg,"...)
			buf = append(buf, ins[j].id...)
			buf = append(buf, ',')
			buf = append(buf, classes[label]...)
			buf = append(buf, ',')
			buf = base.Add(time.Duration(p)*time.Second+time.Duration(j)*time.Millisecond).AppendFormat(buf, "2006-01-02T15:04:05.000Z")
			buf = append(buf, '\n')
			if _, err := bw.Write(buf); err != nil {
				log.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if err := bw.Flush(); err != nil {
		log.Fatal(err)
	}
}
