void gomalloc_placeholder(void);
