; Proper tail calls run in constant stack: the shadow-stack depth is the same at every iteration.
; Non-tail recursion goes deep and builds garbage.
(define (show . xs) (for-each display xs) (newline))
(define (constant-depth? loop) (let ((d0 #f) (ok #t)) (loop (lambda () (let ((d (stack-depth))) (if d0 (if (not (= d d0)) (set! ok #f)) (set! d0 d))))) ok))

(define (count-up i n probe) (probe) (if (= i n) i (count-up (+ i 1) n probe)))
(show "tail loop " (count-up 0 30000 (lambda () #t)))
(show "tail loop in constant stack " (constant-depth? (lambda (probe) (count-up 0 10000 probe))))

(define (my-even? n probe) (probe) (if (= n 0) #t (my-odd? (- n 1) probe)))
(define (my-odd? n probe) (probe) (if (= n 0) #f (my-even? (- n 1) probe)))
(show "mutual tail recursion " (my-even? 30001 void) " " (my-odd? 30001 void))
(show "mutual recursion in constant stack " (constant-depth? (lambda (p) (my-even? 10000 p))))

(define (loop-cond n acc probe) (probe) (cond ((= n 0) acc) ((even? n) (loop-cond (- n 1) (+ acc 2) probe)) (else (loop-cond (- n 1) (+ acc 1) probe))))
(show "tail calls in cond " (loop-cond 30000 0 void) " " (constant-depth? (lambda (p) (loop-cond 1000 0 p))))
(define (loop-and n probe) (probe) (and #t (or #f (if (= n 0) 'done (loop-and (- n 1) probe)))))
(show "tail calls in and/or " (loop-and 30000 void) " " (constant-depth? (lambda (p) (loop-and 1000 p))))
(define (loop-let n probe) (probe) (let* ((m (- n 1))) (when (>= m 0) (loop-let m probe))))
(show "tail calls in let*/when " (constant-depth? (lambda (p) (loop-let 1000 p))))
(define (loop-case n probe) (probe) (case (remainder n 3) ((0) (if (= n 0) 'done (loop-case (- n 1) probe))) (else (loop-case (- n 1) probe))))
(show "tail calls in case " (loop-case 1000 void) " " (constant-depth? (lambda (p) (loop-case 1000 p))))
(show "tail calls through apply " (constant-depth? (lambda (p) (let loop ((n 1000)) (p) (if (> n 0) (apply loop (list (- n 1))))))))
(show "named let " (let loop ((i 0) (sum 0)) (if (> i 30000) sum (loop (+ i 1) (+ sum i)))))
(show "do loop " (do ((i 0 (+ i 1)) (s 0 (+ s i))) ((= i 30000) s)))

; A non-tail call is not a tail call: the depth grows (so the checks above can fail).
(define (not-tail n probe) (probe) (if (= n 0) 0 (+ 1 (not-tail (- n 1) probe))))
(show "non-tail recursion in constant stack " (constant-depth? (lambda (p) (not-tail 100 p))))

; Deep non-tail recursion: 30000 frames, each allocating.
(define (build n) (if (= n 0) '() (cons (* n n) (build (- n 1)))))
(define (sum-list l) (if (null? l) 0 (+ (car l) (sum-list (cdr l)))))
(show "deep recursion " (sum-list (build 30000)))
(define (deep-strings n) (if (= n 0) "" (string-append (deep-strings (- n 1)) (if (= (remainder n 3000) 0) "x" ""))))
(show "deep string building " (deep-strings 30000))
(define (depth-of-nesting n) (if (= n 0) '() (list (depth-of-nesting (- n 1)))))
(define (measure t) (if (null? t) 0 (+ 1 (measure (car t)))))
(show "deep nesting " (measure (depth-of-nesting 20000)))
