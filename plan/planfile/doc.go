// Package planfile is the plan file format: the versioned wire structs
// (the only code that knows the format), the digest, and the encoder and
// decoder of plan.Plan. A File holds a plan together with its bytes, so
// that what apply runs and what the records keep are always the same plan.
package planfile
