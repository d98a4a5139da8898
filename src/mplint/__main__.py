from mplint.command_memo import main

if __name__ == "__main__":
    main()
