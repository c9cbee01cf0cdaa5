// filled in by the executor work
