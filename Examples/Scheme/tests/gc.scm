; Garbage-heavy programs: the collector must run, and reachable data must come through intact.
(define (show . xs) (for-each display xs) (newline))
(define gcs-at-start (gc-count))

; Binary trees (the shootout benchmark, small): many short-lived trees, one long-lived.
(define (make-tree d) (if (= d 0) (cons '() '()) (cons (make-tree (- d 1)) (make-tree (- d 1)))))
(define (check t) (if (null? (car t)) 1 (+ 1 (check (car t)) (check (cdr t)))))
(define long-lived (make-tree 10))
(define (run-trees d max-d)
  (when (<= d max-d)
    (let ((iters (expt 2 (+ (- max-d d) 2))))
      (let loop ((i 0) (sum 0))
        (if (< i iters)
            (loop (+ i 1) (+ sum (check (make-tree d))))
            (show iters " trees of depth " d " check " sum))))
    (run-trees (+ d 2) max-d)))
(run-trees 4 10)
(show "long lived tree of depth 10 check " (check long-lived))

; Lists of 100000 elements, built and dropped again and again.
(define (churn rounds)
  (let loop ((r 0) (total 0))
    (if (= r rounds) total
        (loop (+ r 1) (+ total (length (map (lambda (x) (* x 3)) (iota 20000))))))))
(show "churned elements " (churn 3))

; Strings: many intermediate strings, one kept.
(define (number-list->string n)
  (let loop ((i 0) (acc ""))
    (if (= i n) acc (loop (+ i 1) (if (< (string-length acc) 60) (string-append acc (number->string i) " ") acc)))))
(show "string " (number-list->string 20000))

; Vectors of lists, overwritten slot by slot: old lists become garbage while the vector lives.
(define table (make-vector 64 '()))
(let loop ((i 0))
  (when (< i 20000)
    (let ((k (remainder (* i 7919) 64)))
      (vector-set! table k (cons i (if (< (length (vector-ref table k)) 10) (vector-ref table k) '()))))
    (loop (+ i 1))))
(show "table sums " (fold-left + 0 (map (lambda (l) (fold-left + 0 l)) (vector->list table))))

; Closures that capture big structures, then are dropped.
(define keep '())
(let loop ((i 0))
  (when (< i 2000)
    (let* ((big (iota 100 i)) (f (lambda () (fold-left + 0 big))))
      (if (= (remainder i 500) 0) (set! keep (cons f keep))))
    (loop (+ i 1))))
(show "kept closures " (map (lambda (f) (f)) keep))

; An association list updated functionally 50000 times (old versions are garbage).
(define (update alist key f)
  (cond ((null? alist) (list (cons key (f 0))))
        ((equal? (caar alist) key) (cons (cons key (f (cdar alist))) (cdr alist)))
        (else (cons (car alist) (update (cdr alist) key f)))))
(define counts
  (let loop ((i 0) (a '()))
    (if (= i 10000) a (loop (+ i 1) (update a (string (integer->char (+ 97 (remainder (* i i) 7)))) (lambda (n) (+ n 1)))))))
(show "counts " counts)

(show "collections happened: " (> (gc-count) gcs-at-start))
(collect-garbage)
(show "live heap after collect-garbage is small: " (< (heap-live-bytes) 4000000))
