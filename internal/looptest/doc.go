// Package looptest holds the test of the loop a day goes through once its
// decisions are made: credit (with audits), publish, queue, resolve (the
// inspectors' answers), monitor (the audits' live accuracy) and labels
// (the photos people classified), whose manifest the manifest step trains
// on and whose calibration set calibrate reads. It runs the steps as a
// user does, through their commands, on a SQLite ledger.
package looptest
