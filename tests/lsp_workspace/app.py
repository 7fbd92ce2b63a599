"""Fill a cart and print its total: the program the tests run with `scopeline run`."""

from shop.pricing import Cart


def main():
    cart = Cart()
    cart.add(10.0, 2)
    cart.add(2.5)
    try:
        cart.add(1.0, 0)
    except ValueError:
        pass
    print(cart.total("TENTH"))


if __name__ == "__main__":
    main()
