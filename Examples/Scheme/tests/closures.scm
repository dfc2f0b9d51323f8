; Closures: state, higher-order procedures, variadic procedures, lexical scope.
(define (show . xs) (for-each display xs) (newline))

(define (make-counter)
  (let ((n 0))
    (lambda () (set! n (+ n 1)) n)))
(define c1 (make-counter))
(define c2 (make-counter))
(c1) (c1) (c2)
(show "counters " (c1) " " (c2))

(define (make-account balance)
  (define (withdraw amount)
    (if (> amount balance) "insufficient funds"
        (begin (set! balance (- balance amount)) balance)))
  (define (deposit amount) (set! balance (+ balance amount)) balance)
  (lambda (op . args)
    (cond ((eq? op 'withdraw) (apply withdraw args))
          ((eq? op 'deposit) (apply deposit args))
          ((eq? op 'balance) balance)
          (else (error "unknown operation" op)))))
(define acc (make-account 100))
(show "account " (acc 'withdraw 30) " " (acc 'deposit 50) " " (acc 'withdraw 500) " " (acc 'balance))

(define (compose . fs)
  (if (null? fs) (lambda (x) x)
      (lambda (x) ((car fs) ((apply compose (cdr fs)) x)))))
(define inc (lambda (x) (+ x 1)))
(show "compose " ((compose inc square inc) 3))

(define (curry f . pre) (lambda post (apply f (append pre post))))
(show "curry " ((curry + 1 2) 3 4) " " ((curry list 'a) 'b 'c))

(define (adder n) (lambda (x) (+ x n)))
(define adders (map adder (iota 5)))
(show "adders " (map (lambda (f) (f 100)) adders))

; Each closure captures its own binding of i (a fresh frame per call).
(define thunks (map (lambda (i) (lambda () (* i i))) '(1 2 3 4)))
(show "thunks " (map (lambda (t) (t)) thunks))

(define (memo-fib)
  (let ((table (make-vector 100 #f)))
    (define (fib n)
      (or (vector-ref table n)
          (let ((v (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))
            (vector-set! table n v)
            v)))
    fib))
(show "memo fib 80 = " ((memo-fib) 80))

(define (variadic a . rest) (list a rest))
(show "variadic " ((lambda args args) 1 2 3) " " ((lambda (a b . c) (list a b c)) 1 2 3 4) " " ((lambda (a . b) b) 1))

; Shadowing and inner defines.
(define y 'global)
(define (shadow y) (define z (list y 'inner)) (let ((y 'let)) (list y z)))
(show "shadow " (shadow 'param) " " y)

; A generator made from closures over a list.
(define (make-gen l) (lambda () (if (null? l) 'done (let ((x (car l))) (set! l (cdr l)) x))))
(define g (make-gen '(a b)))
(show "gen " (g) " " (g) " " (g))

; Sorting with a comparison procedure.
(define (insert x sorted less?)
  (cond ((null? sorted) (list x)) ((less? x (car sorted)) (cons x sorted)) (else (cons (car sorted) (insert x (cdr sorted) less?)))))
(define (insertion-sort l less?) (fold-left (lambda (acc x) (insert x acc less?)) '() l))
(show "sort " (insertion-sort '(5 2 8 1 9 3) <) " " (insertion-sort '("pear" "apple" "fig") string<?))
