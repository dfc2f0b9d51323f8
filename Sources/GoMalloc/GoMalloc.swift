import GoAlloc
