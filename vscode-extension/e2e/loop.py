import time


def total(xs):
    acc = 0
    for i, x in enumerate(xs):
        acc += x
    return acc


def main():
    for i in range(5):
        print(f"tick {i}", flush=True)
        time.sleep(0.1)
    print("total", total([1, 2, 3]), flush=True)


if __name__ == "__main__":
    main()
