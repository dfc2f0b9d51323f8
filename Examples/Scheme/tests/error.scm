; An error stops the program with a message on stderr and exit status 1; output before it is kept.
(display "before")
(newline)
(define (f x) (car x))
(f 42)
(display "never printed")
