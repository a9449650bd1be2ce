// Command reviewlens runs every step of the review-photo inspection
// workflow as a subcommand: reviewlens consolidate, reviewlens manifest,
// reviewlens tune, reviewlens stage, reviewlens transform, ...
package main

import (
	"github.com/reviewlens/reviewlens/internal/cli"
	"github.com/reviewlens/reviewlens/internal/consolidatecmd"
	"github.com/reviewlens/reviewlens/internal/creditcmd"
	"github.com/reviewlens/reviewlens/internal/democmd"
	"github.com/reviewlens/reviewlens/internal/labelscmd"
	"github.com/reviewlens/reviewlens/internal/manifestcmd"
	"github.com/reviewlens/reviewlens/internal/monitorcmd"
	"github.com/reviewlens/reviewlens/internal/predictionscmd"
	"github.com/reviewlens/reviewlens/internal/publishcmd"
	"github.com/reviewlens/reviewlens/internal/resolvecmd"
	"github.com/reviewlens/reviewlens/internal/runcmd"
	"github.com/reviewlens/reviewlens/internal/stagecmd"
	"github.com/reviewlens/reviewlens/internal/transformcmd"
	"github.com/reviewlens/reviewlens/internal/tunecmd"
)

func main() {
	cli.Main(cli.App("reviewlens", "inspect customer review photos with SageMaker and grant credits",
		cli.Command(democmd.Step),
		cli.Command(runcmd.Step),
		cli.Command(consolidatecmd.Step),
		cli.Command(manifestcmd.Step),
		cli.Command(tunecmd.Step),
		cli.Command(stagecmd.Step),
		cli.Command(transformcmd.Step),
		cli.Command(predictionscmd.Step),
		cli.Command(creditcmd.CalibrateStep),
		cli.Command(creditcmd.CreditStep),
		cli.Command(publishcmd.PublishStep),
		cli.Command(publishcmd.QueueStep),
		cli.Command(resolvecmd.Step),
		cli.Command(monitorcmd.Step),
		cli.Command(labelscmd.Step),
	))
}
