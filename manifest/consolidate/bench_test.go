package consolidate_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/reviewlens/reviewlens/manifest/consolidate"
)

// benchInspectors are 20 inspectors from 0.97 down to 0.6, two of them
// spammers.
func benchInspectors() []simInspector {
	var ins []simInspector
	for i := range 18 {
		ins = append(ins, simInspector{id: fmt.Sprintf("inspector-%02d", i), acc: 0.97 - 0.02*float64(i)})
	}
	return append(ins, simInspector{id: "spammer-1", spammer: true}, simInspector{id: "spammer-2", spammer: true})
}

// benchCSV is an answers table of photos photos, each answered by 3 or 4
// inspectors (1,000,000 answers for 300,000 photos).
func benchCSV(tb testing.TB, photos int) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	ins := benchInspectors()
	var buf bytes.Buffer
	buf.WriteString("image_uri,inspector_id,label,answered_at\n")
	order := make([]int, len(ins))
	for i := range order {
		order[i] = i
	}
	k := len(simClasses)
	for p := range photos {
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
			fmt.Fprintf(&buf, "s3://reviewlens-photos/reviews/2026-11-%02d/review-%07d-photo-1.jpg,%s,%s,2026-11-28T09:%02d:%02dZ\n",
				1+p%28, p, ins[j].id, simClasses[label], p%60, j)
		}
	}
	return buf.Bytes()
}

const benchPhotos = 300_000

// BenchmarkConsolidate consolidates 1,000,000 answers (300,000 photos, 3
// or 4 inspectors each, 20 inspectors): the answers are read once, outside
// the timer.
func BenchmarkConsolidate(b *testing.B) {
	data := benchCSV(b, benchPhotos)
	a, err := consolidate.ReadAnswers(context.Background(), bytes.NewReader(data), "bench.csv", testClasses(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d answers, %d photos, %d inspectors", a.Len(), a.Photos(), a.Inspectors())
	for _, tt := range []struct {
		name string
		opts consolidate.Options
	}{
		{"dawid-skene", consolidate.Options{}},
		{"dawid-skene-1-core", consolidate.Options{Workers: 1}},
		{"majority", consolidate.Options{Method: consolidate.Majority}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			var res *consolidate.Result
			for b.Loop() {
				if res, err = consolidate.Consolidate(context.Background(), a, tt.opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(res.Iterations), "iterations")
		})
	}
}

// BenchmarkRun is the consolidate step without the files: read the
// 1,000,000-answer CSV, consolidate with Dawid–Skene, write every output.
func BenchmarkRun(b *testing.B) {
	data := benchCSV(b, benchPhotos)
	classes := testClasses(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		a, err := consolidate.ReadAnswers(context.Background(), bytes.NewReader(data), "bench.csv", classes)
		if err != nil {
			b.Fatal(err)
		}
		_, err = consolidate.Run(context.Background(), a, consolidate.RunOptions{
			ManifestOptions: consolidate.ManifestOptions{LabelAttribute: "category"},
		}, consolidate.Outputs{Manifest: io.Discard, Workers: io.Discard, Disagreements: io.Discard, Rejected: io.Discard})
		if err != nil {
			b.Fatal(err)
		}
	}
}
