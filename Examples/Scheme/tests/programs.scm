; Small real programs: sorting, search, a sieve, word counts, an evaluator for arithmetic.
(define (show . xs) (for-each display xs) (newline))

; A linear congruential generator, so the data is the same on every run.
(define seed 42)
(define (random-int n) (set! seed (modulo (+ (* seed 1103515245) 12345) 2147483648)) (modulo (quotient seed 65536) n))
(define data (map (lambda (i) (random-int 1000)) (iota 5000)))

(define (merge a b)
  (let loop ((a a) (b b) (acc '()))
    (cond ((null? a) (append (reverse acc) b))
          ((null? b) (append (reverse acc) a))
          ((<= (car a) (car b)) (loop (cdr a) b (cons (car a) acc)))
          (else (loop a (cdr b) (cons (car b) acc))))))
(define (split l) (if (or (null? l) (null? (cdr l))) (cons l '()) (let ((r (split (cddr l)))) (cons (cons (car l) (car r)) (cons (cadr l) (cdr r))))))
(define (merge-sort l) (if (or (null? l) (null? (cdr l))) l (let ((halves (split l))) (merge (merge-sort (car halves)) (merge-sort (cdr halves))))))
(define (quicksort l)
  (if (null? l) '()
      (let ((p (car l)))
        (append (quicksort (filter (lambda (x) (< x p)) (cdr l))) (list p) (quicksort (filter (lambda (x) (>= x p)) (cdr l)))))))
(define (sorted? l) (or (null? l) (null? (cdr l)) (and (<= (car l) (cadr l)) (sorted? (cdr l)))))
(define ms (merge-sort data))
(define qs (quicksort data))
(show "sorted " (sorted? ms) " " (equal? ms qs) " length " (length ms) " first " (list-tail (reverse (list-tail (reverse ms) 4990)) 0) " sum " (fold-left + 0 ms))

; Eight queens: all 92 solutions, the first one printed.
(define (queens board-size)
  (define (safe? col placed)
    (let loop ((p placed) (d 1))
      (or (null? p) (and (not (= (car p) col)) (not (= (abs (- (car p) col)) d)) (loop (cdr p) (+ d 1))))))
  (define (place k placed)
    (if (= k 0) (list placed)
        (let loop ((col 1) (acc '()))
          (if (> col board-size) acc
              (loop (+ col 1) (if (safe? col placed) (append acc (place (- k 1) (cons col placed))) acc))))))
  (place board-size '()))
(define solutions (queens 8))
(show "queens " (length solutions) " first " (car solutions))

; Sieve of Eratosthenes on a vector.
(define (primes-below n)
  (let ((v (make-vector n #t)))
    (let loop ((i 2) (acc '()))
      (if (>= i n) (reverse acc)
          (if (vector-ref v i)
              (begin (do ((j (* i i) (+ j i))) ((>= j n)) (vector-set! v j #f)) (loop (+ i 1) (cons i acc)))
              (loop (+ i 1) acc))))))
(define ps (primes-below 20000))
(show "primes " (length ps) " last " (car (last-pair ps)) " first " (list-tail (reverse (list-tail (reverse ps) (- (length ps) 10))) 0))

; Word frequencies in a text.
(define text "the quick brown fox jumps over the lazy dog the dog sleeps and the fox runs")
(define (words s)
  (let loop ((cs (string->list s)) (cur '()) (acc '()))
    (cond ((null? cs) (reverse (if (null? cur) acc (cons (list->string (reverse cur)) acc))))
          ((char=? (car cs) #\space) (loop (cdr cs) '() (if (null? cur) acc (cons (list->string (reverse cur)) acc))))
          (else (loop (cdr cs) (cons (car cs) cur) acc)))))
(define (count-words ws)
  (let loop ((ws ws) (table '()))
    (if (null? ws) table
        (let ((e (assoc (car ws) table)))
          (if e (begin (set-cdr! e (+ (cdr e) 1)) (loop (cdr ws) table)) (loop (cdr ws) (cons (cons (car ws) 1) table)))))))
(define freq (count-words (words text)))
(define (insert-by-count e l) (cond ((null? l) (list e)) ((> (cdr e) (cdar l)) (cons e l)) ((and (= (cdr e) (cdar l)) (string<? (car e) (caar l))) (cons e l)) (else (cons (car l) (insert-by-count e (cdr l))))))
(show "words " (length (words text)) " top " (list-tail (reverse (list-tail (reverse (fold-left (lambda (acc e) (insert-by-count e acc)) '() freq)) 8)) 0))

; An evaluator for arithmetic expressions with variables, written in Scheme.
(define (calc e env)
  (cond ((number? e) e)
        ((symbol? e) (cdr (assq e env)))
        ((eq? (car e) 'let) (calc (caddr e) (cons (cons (caadr e) (calc (cadadr e) env)) env)))
        (else (let ((args (map (lambda (a) (calc a env)) (cdr e))))
                (case (car e) ((+) (apply + args)) ((*) (apply * args)) ((-) (apply - args)) (else (error "calc: unknown" (car e))))))))
(define (cadadr x) (car (cdr (car (cdr x)))))
(show "calc " (calc '(let (x 5) (+ (* x x) (let (y (- x 2)) (* y 10)) 1)) '()))

; String building: a number in words, for 1..20, joined.
(define ones '#("zero" "one" "two" "three" "four" "five" "six" "seven" "eight" "nine" "ten" "eleven" "twelve" "thirteen" "fourteen" "fifteen" "sixteen" "seventeen" "eighteen" "nineteen" "twenty"))
(show "words for 1..20 have " (string-length (string-join (map (lambda (i) (vector-ref ones i)) (iota 20 1)) "")) " letters")
(show "reverse string " (list->string (reverse (string->list "stressed"))))
