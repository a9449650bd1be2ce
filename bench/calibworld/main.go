// Command calibworld calibrates a policy on the simulated world of issue
// 13 (credittest.Calibrated: a perfectly calibrated model, 93% top-1,
// four balanced classes), then decides a fresh day with it and holds the
// decisions to the truth. One row per seed, then the median:
//
//	go run ./bench/calibworld -seeds 9
//	go run ./bench/calibworld -seeds 9 -guarantee overall
//
// Columns: the families certified; the day's automatic grants and
// rejects, and reviews sent to a person; the share decided automatically
// ("automated"), the share of automatic decisions that are right, the
// share of the qualifying reviews granted automatically; the hindsight
// optimum (one threshold on the decision score chosen by looking at the
// day's truth, deciding the most at the target) and the ratio of the
// automated share to it. A last line counts the seeds that meet the
// targets of issue 13: automatic decisions at least 98% right, automated
// share at least 0.8 of the hindsight optimum, at least half of the
// qualifying reviews granted automatically.
//
// Medians over seeds 1–9 (target 0.98, delta 0.05), and the seeds of 20
// meeting all three targets:
//
//	                           grants  rejects  automated  right    qualifying granted  hindsight  ratio  all targets
//	before (commit d7312aa)       0     2014     67.1%     99.06%         0.0%            96.4%     0.70     0 of 20
//	per-decision (the default)  518     2215     91.4%     98.66%        70.7%            96.4%     0.95    19 of 20
//	overall                     654     2185     94.1%     98.50%        85.6%            96.4%     0.98    17 of 20
//	per-review-type               0     2187     73.7%     98.79%         0.0%            96.4%     0.76     1 of 20
//
// (before: top-class confidence, per-class thresholds, four families, the
// walk from the top; reproduce it with git archive d7312aa | tar -x -C DIR
// and go run ./bench/calibworld there.) Under overall, the day's share
// right falls below 98% in 3 seeds of 20 (97.67% the lowest): its one
// family is certified where its bound reaches 2%, and a day of 3,000
// reviews is a sample of that risk. Under per-decision the grants are
// not certified in 1 seed of 20: 16 wrong among the 1,195 most confident
// of them, where 98% allows 14.
package main

import (
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/reviewlens/reviewlens/credit"
	"github.com/reviewlens/reviewlens/credit/credittest"
)

func main() {
	seeds := flag.Int("seeds", 9, "number of seeds (1, 2, …)")
	calN := flag.Int("calibration", 5000, "labelled calibration photos")
	dayN := flag.Int("day", 3000, "one-photo reviews of the fresh day, half product and half style")
	target := flag.Float64("target", 0.98, "target accuracy")
	grantTarget := flag.Float64("grant-target", 0, "target accuracy of grants, when it differs")
	delta := flag.Float64("delta", 0.05, "delta")
	guarantee := flag.String("guarantee", credit.PerDecision, "per-decision, overall or per-review-type")
	verbose := flag.Bool("v", false, "print each family's selection")
	flag.Parse()

	w := credittest.Calibrated()
	policy, err := credit.DefaultPolicyFor(w.Classes)
	if err != nil {
		log.Fatal(err)
	}
	opts := credit.CalibrateOptions{TargetAccuracy: *target, Delta: *delta, Guarantee: *guarantee}
	if *grantTarget > 0 {
		opts.Targets = map[string]float64{credit.Grant: *grantTarget}
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "seed\tcertified\tgrants\trejects\tmanual\tautomated\taccuracy\tqualifying granted\thindsight\tratio\t")
	var cols [][]float64
	for seed := 1; seed <= *seeds; seed++ {
		rng := rand.New(rand.NewPCG(uint64(seed), 1))
		set := w.LabelledSet(w.Photos(rng, *calN))
		cal, err := credit.Calibrate(policy, set, opts)
		if err != nil {
			log.Fatal(err)
		}
		certified := 0
		for _, f := range cal.Families {
			if f.Selection.Certified {
				certified++
			}
			if *verbose {
				s := f.Selection
				fmt.Fprintf(os.Stderr, "seed %d %s: %d photos, certified %v, threshold %.5f, coverage %.3f, %d/%d wrong; %s %s\n",
					seed, f.Name(), f.Photos, s.Certified, s.Threshold, s.Coverage, s.K, s.N, s.Reason, f.MoreData.Note)
			}
		}
		day := w.Day(rand.New(rand.NewPCG(uint64(seed), 2)), *dayN, []string{"product", "style"})
		o, err := w.Evaluate(cal.Policy, day)
		if err != nil {
			log.Fatal(err)
		}
		hind := w.Hindsight(cal.Policy, day, *target, true)
		row := []float64{float64(certified), float64(o.Grant), float64(o.Reject), float64(o.Manual), o.Coverage(), o.Accuracy(), o.GrantedShare(), hind, o.Coverage() / hind}
		cols = append(cols, row)
		fmt.Fprintf(tw, "%d\t%d/%d\t%d\t%d\t%d\t%.1f%%\t%.2f%%\t%.1f%%\t%.1f%%\t%.2f\t\n", seed, certified, len(cal.Families),
			o.Grant, o.Reject, o.Manual, 100*o.Coverage(), 100*o.Accuracy(), 100*o.GrantedShare(), 100*hind, o.Coverage()/hind)
	}
	med := make([]float64, len(cols[0]))
	for j := range med {
		var v []float64
		for _, r := range cols {
			v = append(v, r[j])
		}
		slices.Sort(v)
		med[j] = v[len(v)/2]
	}
	fmt.Fprintf(tw, "median\t%.0f\t%.0f\t%.0f\t%.0f\t%.1f%%\t%.2f%%\t%.1f%%\t%.1f%%\t%.2f\t\n", med[0], med[1], med[2], med[3], 100*med[4], 100*med[5], 100*med[6], 100*med[7], med[8])
	tw.Flush()
	met := func(ok func(r []float64) bool) int {
		n := 0
		for _, r := range cols {
			if ok(r) {
				n++
			}
		}
		return n
	}
	fmt.Printf("targets met, of %d seeds: accuracy ≥ %g in %d; automated ≥ 0.8 × hindsight in %d; half the qualifying reviews granted in %d; all three in %d\n",
		len(cols), *target, met(func(r []float64) bool { return r[5] >= *target }), met(func(r []float64) bool { return r[8] >= 0.8 }),
		met(func(r []float64) bool { return r[6] >= 0.5 }), met(func(r []float64) bool { return r[5] >= *target && r[8] >= 0.8 && r[6] >= 0.5 }))
}
