import sys

# `python -m bench queue …` and `python -m bench load …`: the queue and load benchmarks;
# anything else is the FHIR MHD benchmark (bench/run.py).
if sys.argv[1:2] == ["queue"]:
    from bench.queue import main as queue_main

    queue_main(sys.argv[2:])
elif sys.argv[1:2] == ["load"]:
    from bench.locust_run import main as load_main

    load_main(sys.argv[2:])
else:
    from bench.run import main

    main()
