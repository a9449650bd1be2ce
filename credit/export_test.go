package credit

// The report builders, for the report tests (package credit_test).
var (
	PolicyReport      = policyReport
	CalibrationReport = calibrationReport
)
