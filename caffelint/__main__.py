from caffelint.cli import main

main()
