from growthkit.cli import main

main()
