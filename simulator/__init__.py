"""The district simulator and load generator: X区's other systems, publishing commands to Kafka.

`python -m simulator --help`. It builds a district from a seed (`world`), plans its year as
phases of command envelopes (`year`), and publishes them (`publisher`) or writes them to a JSON
lines file (`files`) for replay. It never touches a database: it only speaks the contract.
"""
