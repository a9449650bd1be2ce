// Command gendecisions writes a day of generated decisions to a
// decisions.parquet (credit.WriteDecisions), for bench/publish.sh: about
// 60% grants, 15% rejects and 25% manual decisions, 1 to 3 photos each
// with classes and confidences (a few without a prediction), a reason line
// a photo and a conclusion. The same seed gives the same file.
//
//	go run ./bench/gendecisions -n 1000000 -out /tmp/decisions.parquet
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/reviewlens/reviewlens/credit"
)

func main() {
	n := flag.Int("n", 1000000, "number of decisions")
	out := flag.String("out", "decisions.parquet", "output file")
	day := flag.String("day", "2026-11-28", "day of the decisions")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *n <= 0 {
		log.Fatal("-n must be positive")
	}
	start := time.Now()
	rows := generate(*n, *day, *seed)
	if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
		log.Fatal(err)
	}
	tmp := *out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := credit.WriteDecisions(w, rows); err != nil {
		log.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.Rename(tmp, *out); err != nil {
		log.Fatal(err)
	}
	var grant, reject, manual int
	for _, r := range rows {
		switch r.Decision.Decision {
		case credit.Grant:
			grant++
		case credit.Reject:
			reject++
		default:
			manual++
		}
	}
	st, _ := os.Stat(*out)
	fmt.Fprintf(os.Stderr, "gendecisions: %d decisions of %s (%d grant, %d reject, %d manual) in %s, %.1f MB, %.1f s\n",
		len(rows), *day, grant, reject, manual, *out, float64(st.Size())/1e6, time.Since(start).Seconds())
}

var (
	reviewTypes = []struct {
		name   string
		credit int64
		every  bool // every photo must qualify (else any)
	}{
		{"product", 50, false}, {"restaurant", 30, false}, {"hotel", 80, true}, {"video", 100, false},
	}
	goodClasses = []string{"product_in_use", "dish", "room_interior", "storefront", "packaging"}
	badClasses  = []string{"selfie", "screenshot", "blurry", "text_only"}
	// Interned so that the rows share their strings.
	conclusionGrantAny   = "any qualifying photo earns the credit: " + credit.Grant
	conclusionGrantEvery = "every photo qualifies: " + credit.Grant
	conclusionReject     = "no photo qualifies: " + credit.Reject
	conclusionManual     = "a photo is uncertain: " + credit.Manual
)

func generate(n int, day string, seed uint64) []credit.DecisionRow {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	rows := make([]credit.DecisionRow, n)
	job := "transform-" + day + "-0001"
	for i := range rows {
		rt := reviewTypes[rng.IntN(len(reviewTypes))]
		p := rng.Float64()
		decision := credit.Grant
		switch {
		case p >= 0.75:
			decision = credit.Manual
		case p >= 0.60:
			decision = credit.Reject
		}
		photos := 1 + rng.IntN(3)
		classes := make([]string, photos)
		confs := make([]float64, photos)
		reasons := make([]string, 0, photos+1)
		for j := range photos {
			var c string
			var conf float64
			switch decision {
			case credit.Grant:
				c, conf = goodClasses[rng.IntN(len(goodClasses))], 0.90+0.0999*rng.Float64()
			case credit.Reject:
				if rng.IntN(2) == 0 {
					c, conf = badClasses[rng.IntN(len(badClasses))], 0.80+0.1999*rng.Float64()
				} else {
					c, conf = goodClasses[rng.IntN(len(goodClasses))], 0.01+0.2*rng.Float64()
				}
			default:
				c, conf = goodClasses[rng.IntN(len(goodClasses))], 0.30+0.6*rng.Float64()
				if rng.IntN(20) == 0 {
					c, conf = "", math.NaN() // no prediction
				}
			}
			conf = math.Round(conf*1e4) / 1e4
			classes[j], confs[j] = c, conf
			var line string
			switch {
			case c == "":
				line = fmt.Sprintf("photo %d: no prediction (failed: model error)", j)
			case decision == credit.Grant:
				line = fmt.Sprintf("photo %d: %s %.4f ≥ 0.90 (grant threshold): qualifies", j, c, conf)
			case decision == credit.Reject:
				line = fmt.Sprintf("photo %d: %s %.4f (reject threshold): does not qualify", j, c, conf)
			default:
				line = fmt.Sprintf("photo %d: %s %.4f < 0.90 (grant threshold): uncertain", j, c, conf)
			}
			reasons = append(reasons, line)
		}
		var credits int64
		switch decision {
		case credit.Grant:
			credits = rt.credit
			if rt.every {
				reasons = append(reasons, conclusionGrantEvery)
			} else {
				reasons = append(reasons, conclusionGrantAny)
			}
		case credit.Reject:
			reasons = append(reasons, conclusionReject)
		default:
			reasons = append(reasons, conclusionManual)
		}
		rows[i] = credit.DecisionRow{
			Decision: credit.Decision{
				ReviewID:    fmt.Sprintf("rv-%s-%08d", day, i),
				ReviewType:  rt.name,
				Decision:    decision,
				Credit:      credits,
				Reasons:     reasons,
				Classes:     classes,
				Confidences: confs,
			},
			PolicyVersion: "2026-11-01.3",
			Model:         "photo-classifier-2026-11-20",
			TransformJob:  job,
			Day:           day,
		}
	}
	return rows
}
