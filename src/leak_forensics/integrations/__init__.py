"""Libraries whose objects the pipeline must know by name. Each module imports its
library only if the code under test already did."""
