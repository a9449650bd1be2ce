package tunecmd

// Assignments is assignments, for tests.
var Assignments = assignments
